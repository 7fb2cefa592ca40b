"""A whole course: variants of a problem and the outputs a course needs (sheets,
Moodle XML, GIFT, Canvas, answer keys), every one read from the same quantities."""
