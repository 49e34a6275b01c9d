-- Everything held on one person (duplicates at triage, the data-subject
-- export, erasure) is looked up by person: without these, each lookup read
-- every referral, follow-up and appointment attendee.
CREATE INDEX referrals_person_idx ON referrals (person_id);
CREATE INDEX follow_ups_person_idx ON follow_ups (person_id);
CREATE INDEX follow_up_people_person_idx ON follow_up_people (person_id);
CREATE INDEX appointment_attendees_person_idx ON appointment_attendees (person_id);
