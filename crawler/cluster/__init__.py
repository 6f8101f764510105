"""Scale-out over Redis: `verify --redis` (the owner) and `backcheck worker` (the workers).

The owner keeps the SQLite database: it pushes a run's referring pages into the
shared scrapy-redis request queue and writes the checks that workers send back.
Workers need no database: each request carries what its verdict needs.
"""
