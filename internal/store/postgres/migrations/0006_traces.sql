-- The debugger's recorded traces, shared by every node: each written part
-- is a version, its bytes in chunks read a few at a time. One version per
-- (tx, part) is live; a replaced one is kept a while for the readers that
-- opened it, and one never published (its writer died) goes in time.
CREATE SEQUENCE trace_version_seq;
CREATE TABLE trace_versions (
    version bigint PRIMARY KEY,
    tx      bytea  NOT NULL,
    part    text   NOT NULL,
    state   text   NOT NULL CHECK (state IN ('writing', 'live', 'old')),
    size    bigint NOT NULL DEFAULT 0,
    since   bigint NOT NULL
);
CREATE UNIQUE INDEX trace_versions_live ON trace_versions (tx, part) WHERE state = 'live';
CREATE INDEX trace_versions_stale ON trace_versions (state, since) WHERE state <> 'live';
CREATE TABLE trace_chunks (
    version bigint  NOT NULL,
    seq     integer NOT NULL,
    data    bytea   NOT NULL,
    PRIMARY KEY (version, seq)
);
