//! Tables as diesel sees them, for both backends. Portable SQL types only:
//! TEXT (UUIDs too), TIMESTAMP holding UTC, INTEGER, BIGINT, BOOLEAN.

diesel::table! {
    regions (code) {
        code -> Text,
        name -> Text,
    }
}

diesel::table! {
    departements (code) {
        code -> Text,
        name -> Text,
        region_code -> Text,
    }
}

diesel::joinable!(departements -> regions (region_code));
diesel::allow_tables_to_appear_in_same_query!(regions, departements);
