# Reference outputs of the ESSENCE detectors (EWMA, adaptive regression, regression/EWMA switch)
# from CDC's Rnssp package (NSSP-ESSENCE's R implementation), for tests/alerts/test_essence.py.
#
# Rnssp is not on CRAN or in Debian; its alert functions need only dplyr, tidyr, purrr, slider,
# tibble and cli (Debian: r-cran-dplyr r-cran-tidyr r-cran-purrr r-cran-slider r-cran-tibble
# r-cran-cli), so this script sources the three files from a git checkout of
# https://github.com/CDCgov/Rnssp (commit 7f76909c57a70cff81fea68c621aeb7424b9254a, 2025-08-22):
#
#   Rscript tests/alerts/data/essence_reference.R RNSSP_CHECKOUT tests/alerts/data/essence_counts.csv \
#       tests/alerts/data/essence_reference.csv
#
# Input: long daily counts `series, date, count`. Output: per series and date, each detector's
# expected value, test statistic, p-value, the regression's adjusted R^2 and the switch's choice.
suppressPackageStartupMessages({
  library(dplyr); library(tidyr); library(purrr); library(tibble)
})
options(warn = -1)
a <- commandArgs(trailingOnly = TRUE)
for (f in c("alert_ewma.R", "alert_regression.R", "alert_switch.R")) source(file.path(a[1], "R", f))
Sys.setlocale("LC_TIME", "C")  # weekdays() must give Mon..Sun (the regression's dummies)
d <- read.csv(a[2]) %>% mutate(date = as.Date(date))
num <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
out <- list()
for (s in unique(d$series)) {
  x <- d %>% filter(series == s) %>% select(date, count)
  e <- alert_ewma(x)
  r <- alert_regression(x)
  w <- alert_switch(x)
  out[[length(out) + 1]] <- tibble(
    series = s, date = format(x$date),
    ewma_expected = num(e$baseline_expected), ewma_stat = num(e$test_statistic), ewma_p = num(e$p.value),
    reg_expected = num(r$baseline_expected), reg_stat = num(r$test_statistic), reg_p = num(r$p.value),
    reg_sigma = num(r$sigma), reg_r2adj = num(r$adjusted_r_squared),
    switch_p = num(w$p.value), switch_detector = ifelse(is.na(w$detector), "NA", w$detector))
}
write.csv(bind_rows(out), a[3], row.names = FALSE, quote = FALSE)
cat("wrote", a[3], "\n")
