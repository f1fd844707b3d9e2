-- Key rotation: at most one next key per algorithm, so two nodes starting a rotation at once
-- cannot both publish one (the second insert fails and that node reloads instead).
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (alg) WHERE state = 'next';
