"""Views of the usage app: the report page and its CSV files (reports.py), the browsers' error reports
(client_errors.py)."""
