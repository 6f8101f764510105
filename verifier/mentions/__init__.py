"""Discovery on a page: brand mentions, image uses, and who to ask for a link."""
