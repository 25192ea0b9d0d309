"""The consultation room's pages for patients (/c/room/); the staff side lives in portal/views/room.py."""
