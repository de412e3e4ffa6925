# Golden values for pollwaves.survey.raoscott.rao_scott (R survey::svychisq).
# Run from the project root:  Rscript tests/survey/reference/raoscott.R
# Reads tests/survey/reference/data/survey.csv, writes tests/survey/reference/expected/raoscott.csv with
# 17 significant digits. For statistic="Chisq" svychisq reports the *uncorrected* Pearson X^2
# as its statistic and uses X^2 / mean(deff) only for the p-value; that corrected value is
# recovered exactly as F * (r-1)(c-1), because F = X^2 / sum(deff).
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail")

dat <- read.csv(
  "tests/survey/reference/data/survey.csv",
  stringsAsFactors = FALSE, na.strings = c("NA", "")
)
fmt <- function(d) {
  for (nm in names(d)) if (is.numeric(d[[nm]])) d[[nm]] <- sprintf("%.17g", d[[nm]])
  d
}

designs <- list(
  weights = svydesign(ids = ~1, weights = ~weight, data = dat),
  design = svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = dat)
)
rows <- list()
for (case in names(designs)) {
  f <- svychisq(~region + opinion, designs[[case]], statistic = "F")
  ch <- svychisq(~region + opinion, designs[[case]], statistic = "Chisq")
  k <- as.numeric(ch$parameter["df"])
  rows[[case]] <- data.frame(
    case = case, statistic = c("F", "Chisq"),
    value = c(as.numeric(f$statistic), as.numeric(f$statistic) * k),
    df1 = c(as.numeric(f$parameter["ndf"]), k),
    df2 = c(as.numeric(f$parameter["ddf"]), NA),
    p_value = c(f$p.value, ch$p.value),
    chisq_pearson = as.numeric(ch$statistic)
  )
}
out <- "tests/survey/reference/expected"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
write.csv(fmt(do.call(rbind, rows)), file.path(out, "raoscott.csv"), row.names = FALSE)
cat("wrote", file.path(out, "raoscott.csv"), "\n")
