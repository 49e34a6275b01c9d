// `embed_migrations!` does not watch the SQL files: rebuild when they change.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
