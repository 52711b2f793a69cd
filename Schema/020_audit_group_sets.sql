-- Group sets and entity attributes (018) join the change log (019): every edit and import is logged.
SELECT audit_table('group_sets');
SELECT audit_table('group_set_groups');
SELECT audit_table('group_set_members');
SELECT audit_table('entity_attributes');
SELECT audit_table('entity_attribute_values');
