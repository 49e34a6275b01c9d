-- Performance: an appointment lasts at most 4 hours (the domain's rule); the
-- database holds the wider bound of a day, so a date window can bound its
-- walk of the starts_at index (`starts_at > from - 1 day`) instead of
-- reading every earlier appointment. Same invariant as SQLite's triggers.
ALTER TABLE appointments ADD CONSTRAINT appointments_max_length
    CHECK (ends_at <= starts_at + interval '1 day');
