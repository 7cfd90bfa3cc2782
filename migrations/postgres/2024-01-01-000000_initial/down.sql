DROP TABLE delivery_outbox;
DROP TABLE role_grants;
DROP TABLE vasco_tokens;
DROP TABLE credentials;
DROP TABLE policies;
DROP TABLE users;
DROP TABLE clients;
