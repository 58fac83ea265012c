"""Result files of instrument software (issue 21, item 6): a mapping per instrument, a pure
reader (:mod:`.parse`), a preview of matched, unmatched and suspicious rows, and an import of
all the rows or none, through the result-entry service, with the raw file as provenance."""
