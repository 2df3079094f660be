-- The privacy policy's history (issue #16, the policy's "change" section): every version the
-- server has run with, when it was first installed, whether the operator marked it a major
-- change, and what changed. People are asked to accept a new version at their next sign-in;
-- for a major one they are also told by e-mail. Acceptances stay in policy_acceptances.
CREATE TABLE policy_versions (
  version       TEXT PRIMARY KEY,
  installed_at  BIGINT NOT NULL,
  major         BIGINT NOT NULL,  -- 1: told by e-mail
  changes       TEXT NOT NULL     -- Markdown, '' if the operator gave none
);
