use idm_ports::auth::IdGenerator;

/// Random UUID v4 identifiers: unguessable, so an extId reveals nothing about others.
#[derive(Debug, Default, Clone, Copy)]
pub struct UuidGenerator;

impl IdGenerator for UuidGenerator {
    fn new_id(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }
}
