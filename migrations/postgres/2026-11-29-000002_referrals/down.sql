DROP TABLE referral_events;
DROP TABLE referrals;
DROP TABLE follow_up_notes;
DROP TABLE follow_up_objectives;
DROP TABLE follow_up_staff;
DROP TABLE follow_ups;
DROP TABLE reference_counters;
DROP TABLE people;
