DROP TRIGGER staff_bookings_no_overlap_insert;
DROP TRIGGER staff_bookings_no_overlap_update;
CREATE TRIGGER staff_bookings_no_overlap_insert BEFORE INSERT ON staff_bookings
WHEN EXISTS (
    SELECT 1 FROM staff_bookings b
    WHERE b.account_id = NEW.account_id
      AND b.starts_at < NEW.ends_at AND NEW.starts_at < b.ends_at
)
BEGIN
    SELECT RAISE(ABORT, 'staff_bookings_no_overlap');
END;
CREATE TRIGGER staff_bookings_no_overlap_update BEFORE UPDATE ON staff_bookings
WHEN EXISTS (
    SELECT 1 FROM staff_bookings b
    WHERE b.account_id = NEW.account_id AND b.id <> NEW.id
      AND b.starts_at < NEW.ends_at AND NEW.starts_at < b.ends_at
)
BEGIN
    SELECT RAISE(ABORT, 'staff_bookings_no_overlap');
END;
