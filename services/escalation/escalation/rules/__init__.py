"""The rule table and calendar corrections shipped with the service (data files, read at start-up)."""
