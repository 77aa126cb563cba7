# Reference outputs of R's surveillance::nowcast (method "bayes.trunc", Hoehle & an der Heiden 2014)
# for tests/alerts/test_nowcast.py.
#
#   Rscript tests/alerts/data/nowcast_reference.R
#
# Writes, beside this script:
#   nowcast_events.csv  area_id, category, occurred, reported, count: one simulated daily series,
#                       70 days of negative-binomial counts (mean 8, size 4), each event reported
#                       after a delay ~ discretised gamma (shape 1.5, mean 2 days), capped at 10 days;
#                       now = the last day of occurrence; events reported after now are kept in the
#                       file (the nowcast leaves them out).
#   nowcast_r.csv       per period of the last D = 7 days: R's delay CDF (posterior mean), the
#                       predictive mean (from predPMF), median (upperbound) and 95% interval (pi).
# Made with surveillance 1.20.3, R 4.2.2; nSamples = 20000 draws of the delay distribution.
suppressMessages(library(surveillance))
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
set.seed(20261203)
days <- seq(as.Date("2026-01-01"), by = "1 day", length.out = 70)
now <- days[length(days)]
N <- rnbinom(length(days), mu = 8, size = 4)
occ <- rep(days, N)
delay <- pmin(floor(rgamma(length(occ), shape = 1.5, scale = 2 / 1.5)), 10)
rep <- occ + delay
ev <- aggregate(list(count = rep(1L, length(occ))), by = list(occurred = occ, reported = rep), FUN = sum)
ev <- ev[order(ev$occurred, ev$reported), ]
out <- data.frame(area_id = "A1", category = "theft", occurred = format(ev$occurred),
                  reported = format(ev$reported), count = ev$count)
write.csv(out, file.path(here, "nowcast_events.csv"), row.names = FALSE, quote = FALSE)

D <- 7
line <- data.frame(dOcc = occ, dRep = rep)
# the prior of N_t: mean and variance of the complete counts (periods t <= T - D), as riskmodel's "empirical"
known <- line[line$dRep <= now, ]
nT <- sapply(days, function(d) sum(known$dOcc == d))
comp <- nT[seq_len(length(days) - D)]
prior <- structure("poisgamma", mean.lambda = mean(comp), var.lambda = var(comp))
when <- tail(days, D)
nc <- nowcast(now = now, when = when, data = line, dEventCol = "dOcc", dReportCol = "dRep",
              method = "bayes.trunc", D = D,
              control = list(N.tInf.prior = prior, nSamples = 20000, N.tInf.max = 300, predPMF = TRUE))
cdf <- nc@delayCDF[["bayes.trunc"]]
idx <- match(when, days)
pmf_mean <- sapply(as.character(when), function(w) sum((0:300) * nc@predPMF[[w]][["bayes.trunc"]]))
res <- data.frame(
  period = format(when),
  lag = as.integer(now - when),
  delay_cdf = cdf[as.integer(now - when) + 1],
  reported_so_far = nT[idx],
  mean = pmf_mean,
  median = upperbound(nc)[idx],
  lo_95 = nc@pi[idx, 1, 1],
  hi_95 = nc@pi[idx, 1, 2],
  prior_mean = mean(comp), prior_var = var(comp)
)
write.csv(res, file.path(here, "nowcast_r.csv"), row.names = FALSE, quote = FALSE)
print(res)
