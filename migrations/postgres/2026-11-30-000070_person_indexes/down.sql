DROP INDEX appointment_attendees_person_idx;
DROP INDEX follow_up_people_person_idx;
DROP INDEX follow_ups_person_idx;
DROP INDEX referrals_person_idx;
