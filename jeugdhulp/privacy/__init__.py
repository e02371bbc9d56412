"""Personal data: the BSN's 11-proef and the keyed pseudonym that replaces it at ingestion."""
