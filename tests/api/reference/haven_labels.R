# Read a pollwaves export with R haven and write its variable and value labels as CSV.
# Usage (run by tests/api/test_export.py):  Rscript tests/api/reference/haven_labels.R FILE OUT.csv
# FILE is a .sav (haven::read_sav) or .dta (haven::read_dta). OUT.csv gets one row per
# variable x value label (variable, label, code, value_label, class, n_rows, first_code); a
# variable without value labels gets one row with empty code and value_label.
suppressPackageStartupMessages(library(haven))
args <- commandArgs(trailingOnly = TRUE)
path <- args[1]
out <- args[2]
dat <- if (grepl("\\.sav$", path)) read_sav(path) else read_dta(path)
rows <- lapply(names(dat), function(v) {
  x <- dat[[v]]
  lab <- attr(x, "label", exact = TRUE)
  lab <- if (is.null(lab)) "" else lab
  vl <- attr(x, "labels", exact = TRUE)
  first <- if (length(x)) as.character(unclass(x)[1]) else ""
  cls <- paste(class(x), collapse = "/")
  if (is.null(vl)) {
    return(data.frame(variable = v, label = lab, code = NA, value_label = NA, class = cls,
                      n_rows = length(x), first_code = first))
  }
  data.frame(variable = v, label = lab, code = as.numeric(unname(vl)), value_label = names(vl),
             class = cls, n_rows = length(x), first_code = first)
})
write.csv(do.call(rbind, rows), out, row.names = FALSE, fileEncoding = "UTF-8")
