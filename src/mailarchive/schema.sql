-- mailarchive storage format, version 1 (see docs/format.md for the reasons behind each table)
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lists (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    subject_prefix TEXT NOT NULL DEFAULT '',
    obfuscate INTEGER NOT NULL DEFAULT 1,
    next_num INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    list_id INTEGER NOT NULL REFERENCES lists(id),
    num INTEGER NOT NULL,
    hash BLOB NOT NULL,
    message_id TEXT NOT NULL,
    synthetic_id INTEGER NOT NULL,
    in_reply_to TEXT,
    refs TEXT NOT NULL,
    subject TEXT NOT NULL,
    subject_norm TEXT NOT NULL,
    from_name TEXT NOT NULL,
    from_addr TEXT NOT NULL,
    date INTEGER NOT NULL,
    tz_offset INTEGER NOT NULL,
    date_source TEXT NOT NULL,
    month TEXT NOT NULL,
    thread INTEGER NOT NULL,
    attachments INTEGER NOT NULL,
    size INTEGER NOT NULL,
    defects TEXT NOT NULL,
    envelope TEXT,
    removed TEXT,
    text_recipe TEXT,
    UNIQUE (list_id, num),
    UNIQUE (list_id, hash)
);
CREATE INDEX IF NOT EXISTS messages_month ON messages (list_id, month, date);
CREATE INDEX IF NOT EXISTS messages_thread ON messages (list_id, thread, date);
CREATE INDEX IF NOT EXISTS messages_date ON messages (list_id, date, num);
CREATE INDEX IF NOT EXISTS messages_mid ON messages (message_id);
CREATE INDEX IF NOT EXISTS messages_subject ON messages (list_id, subject_norm, date);
CREATE TABLE IF NOT EXISTS raw (
    id INTEGER PRIMARY KEY REFERENCES messages(id),
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS zdicts (adler INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS msgids (
    list_id INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    thread INTEGER NOT NULL,
    PRIMARY KEY (list_id, message_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS msgids_thread ON msgids (list_id, thread);
-- Full-text index, contentless (rowid = messages.id): the text lives in the raw bytes already.
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    subject, sender, recipients, body, quoted, filenames,
    content='', tokenize='unicode61 remove_diacritics 2'
);
