# COINr's adjustments vignette (vignettes/adjustments.Rmd of COINr 1.1.14) run by COINr itself:
# the reference outputs that tests/index/test_coinr_adjustments.py and
# benchmarks/index/coinr_adjustments.py check riskmodel against.
#
# The four builds, exactly as the vignette makes them from the default example coin:
#   Nominal   build_example_coin(): denominate, impute (EurAsia group mean), screen 0.9,
#             treat (winsorise up to 5), minmax [0, 100], arithmetic mean
#   Prank     Normalise's global_specs <- list(f_n = "n_prank"): percentile ranks on [0, 1],
#             ties.method = "min", in place of minmax
#   NoLPIFor  change_ind(drop = c("LPI", "Forest")): two indicators dropped, rebuilt
#   Screen90  Impute removed; Screen on the Denominated data at dat_thresh = 0.9 (units with
#             less than 90% of their indicators are dropped; the others keep their NAs)
#
# COINr is not in Debian nor PyPI: install its 1.1.14 source (github.com/bluefoxr/COINr,
# tag v1.1.14, commit 338b21ce72791cf75e17a900008952783762eb5c) into a private library, with
# its imports from Debian (r-cran-openxlsx, r-cran-rlang, r-cran-ggplot2, r-cran-readxl):
#   R CMD INSTALL --no-docs -l /tmp/rlib COINr-1.1.14/
#   R_LIBS=/tmp/rlib Rscript benchmarks/index/coinr_adjustments.R [out_dir]
# out_dir defaults to benchmarks/index/coinr_adjustments (run from the checkout's root).
# Numbers are written with 17 significant digits (R's round trip of a double).

suppressMessages(library(COINr))
stopifnot(as.character(packageVersion("COINr")) == "1.1.14")
args <- commandArgs(TRUE)
out <- if (length(args) >= 1) args[1] else "benchmarks/index/coinr_adjustments"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
wcsv <- function(df, name) {
  num <- vapply(df, is.numeric, logical(1))
  df[num] <- lapply(df[num], function(v) ifelse(is.na(v), NA, sprintf("%.17g", v)))
  utils::write.csv(df, file.path(out, name), row.names = FALSE, na = "", quote = FALSE)
}

# --- the vignette's builds (its code, verbatim apart from quietly) -----------------------------
coin <- build_example_coin(quietly = TRUE)

coin2 <- coin
coin2$Log$Normalise$global_specs <- list(f_n = "n_prank")
coin2 <- Regen(coin2)

coin_remove <- change_ind(coin, drop = c("LPI", "Forest"), regen = TRUE)

coin90 <- coin
coin90$Log$Impute <- NULL
coin90$Log$Screen$dat_thresh <- 0.9
coin90$Log$Screen$dset <- "Denominated"
coin90 <- Regen(coin90)

builds <- list(Nominal = coin, Prank = coin2, NoLPIFor = coin_remove, Screen90 = coin90)

# --- scores and ranks of every aggregate (pillars, sub-indices, Index) --------------------------
long <- do.call(rbind, lapply(names(builds), function(b) {
  cn <- builds[[b]]
  agg <- get_dset(cn, "Aggregated")
  meta <- cn$Meta$Ind[cn$Meta$Ind$Type == "Aggregate", c("iCode", "Level")]
  do.call(rbind, lapply(seq_len(nrow(meta)), function(i) {
    code <- meta$iCode[i]
    x <- agg[[code]]
    # COINr's ranks (rank_df): higher is better, ties take the lowest rank, NA kept
    data.frame(build = b, uCode = agg$uCode, iCode = code, Level = meta$Level[i], Score = x,
               Rank = rank(-x, na.last = "keep", ties.method = "min"))
  }))
}))
wcsv(long, "scores.csv")

# --- the Prank build's normalised indicators (n_prank with its ties) ----------------------------
wcsv(get_dset(coin2, "Normalised"), "prank_normalised.csv")

# --- the units the Screen90 build keeps, with their data availability ---------------------------
scr <- coin90$Analysis$Screened$DataSummary
wcsv(data.frame(uCode = scr$uCode, Dat_Avail = scr$Dat_Avail, Included = scr$Included), "screen90_availability.csv")

# --- the vignette's printed comparisons -----------------------------------------------------------
cmp <- compare_coins(coin, coin2, dset = "Aggregated", iCode = "Index", sort_by = "Abs.diff", decreasing = TRUE)
wcsv(cmp, "compare_nominal_prank.csv")
cmp90 <- compare_coins(coin, coin90, dset = "Aggregated", iCode = "Index", sort_by = "Abs.diff", decreasing = TRUE)
wcsv(cmp90, "compare_nominal_screen90.csv")
multi <- compare_coins_multi(list(Nominal = coin, Prank = coin2, NoLPIFor = coin_remove, Screen90 = coin90),
                             dset = "Aggregated", iCode = "Index")
wcsv(multi, "compare_multi.csv")

# --- n_prank on small vectors with ties and NAs (the function itself) -------------------------------
vecs <- list(ties = c(3, 1, NA, 3, 2, 2, 5), all_tied = c(2, 2, 2), one_value = c(NA, 4, NA),
             neg = c(-1.5, 0, -1.5, 10, NA, 0))
# with a direction, through Normalise() as a build calls it (the direction is applied first)
np <- do.call(rbind, lapply(names(vecs), function(k) {
  x <- vecs[[k]]
  do.call(rbind, lapply(c(1, -1), function(d) {
    data.frame(case = k, direction = d, pos = seq_along(x), x = x,
               prank = Normalise(x, f_n = "n_prank", direction = d))
  }))
}))
wcsv(np, "n_prank_cases.csv")

cat("COINr", as.character(packageVersion("COINr")), "on", R.version.string, "\n")
for (b in names(builds)) {
  cn <- builds[[b]]
  cat(sprintf("%-9s units %d, indicators %d\n", b, nrow(get_dset(cn, "Aggregated")),
              sum(cn$Meta$Ind$Type == "Indicator", na.rm = TRUE)))
}
cat("Screen90 removed:", paste(scr$uCode[!scr$Included], collapse = " "), "\n")
print(multi)
