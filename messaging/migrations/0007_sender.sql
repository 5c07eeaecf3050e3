-- A legal disclosure of what an account sent reads its messages by sender.
CREATE INDEX messages_sender ON messages (sender_id, created_at);
