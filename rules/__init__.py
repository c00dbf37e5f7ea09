"""Pure domain rules of henrei: functions over whole tables, no I/O, no Celery.

Each finding category of CONTRACT §2 has its own module here, named after the category.
"""
