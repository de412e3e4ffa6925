# Golden values for pollwaves.survey.weighting.rake (R survey::calibrate(calfun = "raking") and rake()).
# Run from the project root:  Rscript tests/survey/reference/rake.R
# Reads tests/survey/reference/data/props.csv and props_margins.csv (tests/survey/reference/make_props_data.py;
# the margins sex, age and educ are population totals summing to 1,000,000) and writes
# tests/survey/reference/expected/rake_weights.csv (case, id, base_weight, weight) with 17 significant
# digits. Cases:
#   base_one     all 400 respondents, base weights 1 (svydesign(ids = ~1, weights = ~one));
#   base_weight  all 400 respondents, the unequal base weights ~weight;
#   subset       respondents with id <= 120 (sparser cells, larger adjustments), base ~weight.
# `weight` is calibrate(design, ~sex + age + educ, population, calfun = "raking") run to
# epsilon = 1e-12. The raking solution is unique, so survey::rake() (iterative post-
# stratification, as pollwaves does) must reach the same weights; the script checks that.
suppressPackageStartupMessages(library(survey))

dat <- read.csv(
  "tests/survey/reference/data/props.csv",
  stringsAsFactors = FALSE, na.strings = c("NA", "")
)
marg <- read.csv("tests/survey/reference/data/props_margins.csv", stringsAsFactors = FALSE)
fmt <- function(d) {
  for (nm in names(d)) if (is.numeric(d[[nm]])) d[[nm]] <- sprintf("%.17g", d[[nm]])
  d
}
vars <- c("sex", "age", "educ")
for (v in vars) dat[[v]] <- factor(dat[[v]], levels = sort(unique(dat[[v]])))
dat$one <- 1

pop_total <- sum(marg$total[marg$variable == "sex"])
pop <- c(`(Intercept)` = pop_total)
for (v in vars) {
  for (k in levels(dat[[v]])[-1]) {
    pop[paste0(v, k)] <- marg$total[marg$variable == v & marg$category == k]
  }
}
pop_margins <- lapply(vars, function(v) {
  m <- marg[marg$variable == v, ]
  d <- data.frame(levels(dat[[v]]), m$total[match(levels(dat[[v]]), m$category)])
  names(d) <- c(v, "Freq")
  d
})

cases <- list(
  base_one = list(rows = rep(TRUE, nrow(dat)), base = "one"),
  base_weight = list(rows = rep(TRUE, nrow(dat)), base = "weight"),
  subset = list(rows = dat$id <= 120, base = "weight")
)
out_rows <- list()
for (case in names(cases)) {
  cs <- cases[[case]]
  d <- dat[cs$rows, ]
  stopifnot(all(sapply(vars, function(v) all(table(d[[v]]) > 0))))
  des <- svydesign(ids = ~1, weights = as.formula(paste0("~", cs$base)), data = d)
  cal <- calibrate(des, ~ sex + age + educ,
    population = pop, calfun = "raking",
    epsilon = 1e-12, maxit = 200
  )
  rk <- rake(des, lapply(vars, function(v) as.formula(paste0("~", v))), pop_margins,
    control = list(maxit = 500, epsilon = 1e-13)
  )
  w <- weights(cal)
  stopifnot(max(abs(weights(rk) / w - 1)) < 1e-9)
  for (v in vars) {
    got <- tapply(w, d[[v]], sum)
    want <- marg$total[marg$variable == v][match(names(got), marg$category[marg$variable == v])]
    stopifnot(max(abs(got - want) / want) < 1e-10)
  }
  out_rows[[case]] <- data.frame(case = case, id = d$id, base_weight = d[[cs$base]], weight = w)
}
out <- "tests/survey/reference/expected"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
write.csv(fmt(do.call(rbind, out_rows)), file.path(out, "rake_weights.csv"), row.names = FALSE)
cat("wrote", file.path(out, "rake_weights.csv"), "\n")
