"""Views of the questionnaire app: admin.py (the organisation admin's editor and access log), staff.py."""
