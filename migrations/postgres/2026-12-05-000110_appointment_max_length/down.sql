ALTER TABLE appointments DROP CONSTRAINT appointments_max_length;
