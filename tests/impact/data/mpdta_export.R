# Exports the `did` R package's example panel `mpdta` (Callaway and Sant'Anna 2021:
# county teen employment, 500 counties, 2003-2007) to mpdta.csv beside this script.
# Source: data/mpdta.rda of github.com/bcallaway11/did (commit 71ba8a5, did 2.x), obtained with
#   git show HEAD:data/mpdta.rda > mpdta.rda
# Run: Rscript mpdta_export.R path/to/mpdta.rda   (R only; the did package is not needed)
args <- commandArgs(trailingOnly = TRUE)
load(if (length(args)) args[1] else "mpdta.rda")
out <- mpdta[order(mpdta$countyreal, mpdta$year), c("countyreal", "year", "first.treat", "lemp")]
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(), value = TRUE)))
write.csv(out, file.path(here, "mpdta.csv"), row.names = FALSE)
