-- Performance: an appointment lasts at most 4 hours (the domain's rule); the
-- database holds the wider bound of a day, so a date window can bound its
-- walk of the starts_at index (`starts_at > from - 1 day`) instead of
-- reading every earlier appointment. Same invariant as PostgreSQL's
-- appointments_max_length.
CREATE TRIGGER appointments_max_length_insert BEFORE INSERT ON appointments
BEGIN
    SELECT RAISE(ABORT, 'appointments_max_length')
    WHERE NEW.ends_at > datetime(NEW.starts_at, '+1 day');
END;
CREATE TRIGGER appointments_max_length_update BEFORE UPDATE OF starts_at, ends_at ON appointments
BEGIN
    SELECT RAISE(ABORT, 'appointments_max_length')
    WHERE NEW.ends_at > datetime(NEW.starts_at, '+1 day');
END;
