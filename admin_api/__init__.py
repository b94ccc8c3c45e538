"""OpenContact's admin API: Flask + Socket.IO over the realtime configuration database."""
