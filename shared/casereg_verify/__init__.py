"""The offline verifier of casereg exports and seals: standard library only, see ``verify.py`` and
``docs/audit.md``. Nothing here imports the rest of casereg, so an auditor can copy this directory alone."""
