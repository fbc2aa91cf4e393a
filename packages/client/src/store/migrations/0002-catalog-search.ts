/**
 * Name/SKU search: one FTS5 index over products and variants, kept in step by triggers so no
 * writer (a command, a pulled catalog page) can forget it. Products are indexed under their
 * `rid`, variants under `-rid`, so one index answers both and deleting by rowid stays cheap.
 * `remove_diacritics 2`: "cafe" finds "Café".
 */
export const m0002_catalog_search = `
CREATE VIRTUAL TABLE catalog_fts USING fts5 (name, sku, tokenize = 'unicode61 remove_diacritics 2');

CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
  INSERT INTO catalog_fts (rowid, name, sku) VALUES (new.rid, new.name, new.sku);
END;
CREATE TRIGGER products_fts_update AFTER UPDATE OF name, sku ON products BEGIN
  DELETE FROM catalog_fts WHERE rowid = old.rid;
  INSERT INTO catalog_fts (rowid, name, sku) VALUES (new.rid, new.name, new.sku);
END;
CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
  DELETE FROM catalog_fts WHERE rowid = old.rid;
END;

CREATE TRIGGER variants_fts_insert AFTER INSERT ON variants BEGIN
  INSERT INTO catalog_fts (rowid, name, sku) VALUES (-new.rid, new.name, new.sku);
END;
CREATE TRIGGER variants_fts_update AFTER UPDATE OF name, sku ON variants BEGIN
  DELETE FROM catalog_fts WHERE rowid = -old.rid;
  INSERT INTO catalog_fts (rowid, name, sku) VALUES (-new.rid, new.name, new.sku);
END;
CREATE TRIGGER variants_fts_delete AFTER DELETE ON variants BEGIN
  DELETE FROM catalog_fts WHERE rowid = -old.rid;
END;
`;
