-- Performance: a staff booking lasts at most a day, so lookups of a period's
-- bookings can bound their index range (same invariant as SQLite's trigger).
ALTER TABLE staff_bookings ADD CONSTRAINT staff_bookings_max_length
    CHECK (ends_at <= starts_at + interval '1 day');
