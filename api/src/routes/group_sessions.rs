//! Group sessions: parent groups, workshops, trainings, case reviews and
//! 3-day perpetrator courses; registrations with a waitlist; attendance.
