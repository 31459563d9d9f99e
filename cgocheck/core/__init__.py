"""The ground floor: errors, rules and findings, targets, cgocheck's folders, host folders,
glibc versions, redaction, install hints."""
