# R side of benchmarks/alerts: farringtonFlexible (Noufaily settings) on the simulated series.
# Usage: Rscript bench_r.R IN.csv.gz OUT.csv.gz TIMING.csv
# IN: wide counts (rows = weeks, columns = series); monitors the last 49 weeks.
suppressPackageStartupMessages(library(surveillance))
options(warn = -1)
a <- commandArgs(trailingOnly = TRUE)
obs <- as.matrix(read.csv(a[1], check.names = FALSE))
n <- nrow(obs)
s <- sts(observed = obs, frequency = 52, start = c(2000, 1))
rng <- (n - 48):n
ctl <- list(range = rng, noPeriods = 10, b = 5, w = 3, weightsThreshold = 2.58,
            pastWeeksNotIncluded = 26, pThresholdTrend = 1, thresholdMethod = "nbPlugin",
            alpha = 0.005, glmWarnings = FALSE)
cpu <- system.time(r <- farringtonFlexible(s, control = ctl))[["user.self"]]
num <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
out <- data.frame(series = rep(seq_len(ncol(obs)), each = length(rng)), t = rep(rng, ncol(obs)),
                  upperbound = num(as.vector(upperbound(r))), alarm = as.integer(as.vector(alarms(r))),
                  pvalue = num(as.vector(r@control$pvalue)), expected = num(as.vector(r@control$expected)))
con <- gzfile(a[2], "w"); write.csv(out, con, row.names = FALSE, quote = FALSE); close(con)
write.csv(data.frame(method = "R farringtonFlexible (Noufaily)", cpu_seconds = cpu,
                     area_weeks = length(rng) * ncol(obs)), a[3], row.names = FALSE)
cat("R cpu", cpu, "s for", length(rng) * ncol(obs), "area-weeks\n")
