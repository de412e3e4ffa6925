# R survey timings for benchmarks/speed.py (issue 15), on the SIMULATED data it writes.
# Usage (called by speed.py):  Rscript benchmarks/speed.R data.csv out.csv rake,shares,... repeat
# Tasks as in speed.py: rake (calibrate(calfun = "raking") per wave to the 4 margins), shares
# (svyby(~alliance, ~wave + settlement, svymean), strata = wave), shares_cal (svyby per wave
# on the calibrated wave design, the design built outside the timing), logit (svyglm,
# quasibinomial, strata = wave) and mnlogit (nnet::multinom with the weights: points only).
# Writes task,seconds (best of `repeat` elapsed times).
suppressPackageStartupMessages({
  library(survey)
  library(data.table)
  library(nnet)
})
args <- commandArgs(trailingOnly = TRUE)
dat <- as.data.frame(fread(args[1]))
tasks <- strsplit(args[3], ",")[[1]]
repeat_n <- as.integer(args[4])
for (v in c("wave", "sex", "age", "edu", "settlement", "alliance")) dat[[v]] <- factor(dat[[v]])
target <- list(sex = c(0.54, 0.46), age = c(0.3, 0.35, 0.35), edu = c(0.25, 0.45, 0.3),
               settlement = c(0.3, 0.3, 0.2, 0.2))
pop_of <- function(n) {  # population totals of ~ sex + age + edu + settlement
  pop <- c(`(Intercept)` = n)
  for (v in names(target)) {
    lv <- levels(dat[[v]])
    pop[paste0(v, lv[-1])] <- n * target[[v]][-1]
  }
  pop
}
by_wave <- split(seq_len(nrow(dat)), dat$wave)
calibrated <- function(rows) {
  d0 <- svydesign(ids = ~1, weights = ~one, data = transform(dat[rows, ], one = 1))
  calibrate(d0, ~ sex + age + edu + settlement, population = pop_of(length(rows)),
            calfun = "raking", epsilon = 1e-10, maxit = 100)
}
run <- list(
  rake = function() lapply(by_wave, calibrated),
  shares = function() {
    des <- svydesign(ids = ~1, strata = ~wave, weights = ~w, data = dat)
    svyby(~alliance, ~ wave + settlement, des, svymean)
  },
  shares_cal = NULL,
  logit = function() {
    des <- svydesign(ids = ~1, strata = ~wave, weights = ~w, data = dat)
    summary(svyglm(yes ~ sex + age + edu + settlement, design = des, family = quasibinomial()))
  },
  mnlogit = function() {
    multinom(alliance ~ sex + age + edu + settlement, data = dat, weights = w, trace = FALSE,
             maxit = 500, reltol = 1e-12)
  }
)
if ("shares_cal" %in% tasks) {
  designs <- lapply(by_wave, calibrated)  # not timed: the weighting step
  run$shares_cal <- function() lapply(designs, function(d) svyby(~alliance, ~settlement, d, svymean))
}
res <- data.frame(task = character(), seconds = numeric())
for (t in tasks) {
  best <- Inf
  for (r in seq_len(repeat_n)) {
    gc()
    best <- min(best, system.time(run[[t]]())[["elapsed"]])
  }
  cat(sprintf("R %-12s %9.3f s\n", t, best))
  res[nrow(res) + 1, ] <- list(t, best)
}
write.csv(res, args[2], row.names = FALSE)
