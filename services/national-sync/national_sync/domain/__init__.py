"""National sync's pure domain: the national record formats and the fold from the log's events to them."""
