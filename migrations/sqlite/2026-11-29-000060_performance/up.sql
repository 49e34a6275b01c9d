-- Performance: a staff booking lasts at most a day (an appointment 4 hours,
-- a group session's day 10 hours), so the overlap check only looks at the
-- bookings that start in the day before the new one, not at all of a staff
-- member's history (same invariant as PostgreSQL's staff_bookings_max_length).
DROP TRIGGER staff_bookings_no_overlap_insert;
DROP TRIGGER staff_bookings_no_overlap_update;
CREATE TRIGGER staff_bookings_no_overlap_insert BEFORE INSERT ON staff_bookings
BEGIN
    SELECT RAISE(ABORT, 'staff_bookings_max_length')
    WHERE NEW.ends_at > datetime(NEW.starts_at, '+1 day');
    SELECT RAISE(ABORT, 'staff_bookings_no_overlap')
    WHERE EXISTS (
        SELECT 1 FROM staff_bookings b
        WHERE b.account_id = NEW.account_id
          AND b.starts_at > datetime(NEW.starts_at, '-1 day')
          AND b.starts_at < NEW.ends_at AND NEW.starts_at < b.ends_at
    );
END;
CREATE TRIGGER staff_bookings_no_overlap_update BEFORE UPDATE ON staff_bookings
BEGIN
    SELECT RAISE(ABORT, 'staff_bookings_max_length')
    WHERE NEW.ends_at > datetime(NEW.starts_at, '+1 day');
    SELECT RAISE(ABORT, 'staff_bookings_no_overlap')
    WHERE EXISTS (
        SELECT 1 FROM staff_bookings b
        WHERE b.account_id = NEW.account_id AND b.id <> NEW.id
          AND b.starts_at > datetime(NEW.starts_at, '-1 day')
          AND b.starts_at < NEW.ends_at AND NEW.starts_at < b.ends_at
    );
END;
