// Demo group sets and attributes (universos, PDET, Decreto 683, categoría, KPT): generated, clearly labelled DEMO.
import Foundation
import SetaDatabase

/// The report analyses results by focalization universe (A–D: 685 municipalities with low results; E–H: 417 with
/// high ones), by PDET (170 municipalities), by Decreto 683 (the seven departments it names and about 308
/// municipalities) and by KPT use, but lists none of them by name. The demo draws memberships of those sizes
/// deterministically from the seed (an md5 of code and seed), named «DEMO · …» so no dashboard passes them off as
/// official. One INSERT … SELECT per table.
enum DemoGroupings {
    static func load(_ conn: Connection, seed: UInt64) throws {
        let s = String(seed)
        let from = Demo.firstMonth.firstDayString
        try conn.execute("""
            INSERT INTO group_sets (code, name, description) VALUES
              ('demo-universos', 'DEMO · Universos de focalización', 'DEMO: agrupación generada al azar con los tamaños del informe (A–D: 685 municipios con resultados bajos; E–H: altos). No es la focalización oficial.'),
              ('demo-pdet', 'DEMO · PDET', 'DEMO: 170 municipios elegidos al azar; no es la lista oficial de municipios PDET.'),
              ('demo-decreto-683', 'DEMO · Decreto 683 de 2020', 'DEMO: las 7 gobernaciones que nombra el informe y unos 308 municipios elegidos al azar (el informe no los lista).')
            ON CONFLICT DO NOTHING
            """)
        try conn.execute("""
            INSERT INTO group_set_groups (set_code, code, name)
            SELECT 'demo-universos', u, 'DEMO · Universo ' || u FROM unnest(ARRAY['A','B','C','D','E','F','G','H']) u
            UNION ALL VALUES ('demo-pdet', 'pdet', 'DEMO · PDET'), ('demo-pdet', 'no-pdet', 'DEMO · No PDET'),
                             ('demo-decreto-683', 'acogida', 'DEMO · Se acogió'), ('demo-decreto-683', 'no-acogida', 'DEMO · No se acogió')
            ON CONFLICT DO NOTHING
            """)
        // Municipalities (and Bogotá) ranked by a seeded hash: the rank decides every demo membership.
        try conn.execute("""
            WITH ranked AS (
              SELECT e.code, e.type, row_number() OVER (ORDER BY md5(e.code || \(s))) AS n,
                     row_number() OVER (ORDER BY md5(\(s) || e.code || 'decreto')) AS d
                FROM entities e WHERE e.type IN ('municipality', 'district')
            )
            INSERT INTO group_set_members (set_code, entity_code, valid_from, group_code)
            SELECT 'demo-universos', code, \(from)::date,
                   CASE WHEN n <= 685 THEN (ARRAY['A','B','C','D'])[1 + n % 4] ELSE (ARRAY['E','F','G','H'])[1 + n % 4] END FROM ranked
            UNION ALL
            SELECT 'demo-pdet', code, \(from)::date, CASE WHEN n % 6 = 0 AND n <= 1020 THEN 'pdet' ELSE 'no-pdet' END FROM ranked
            UNION ALL
            SELECT 'demo-decreto-683', code, \(from)::date, CASE WHEN d <= 308 THEN 'acogida' ELSE 'no-acogida' END FROM ranked
            UNION ALL
            SELECT 'demo-decreto-683', e.code, \(from)::date,
                   CASE WHEN e.code IN ('91', '88', '95', '44', '47', '52', '73') THEN 'acogida' ELSE 'no-acogida' END
              FROM entities e WHERE e.type = 'department'
            ON CONFLICT DO NOTHING
            """)
        try conn.execute("""
            INSERT INTO entity_attributes (code, name, type, categories) VALUES
              ('demo-pdet', 'DEMO · Municipio PDET', 'boolean', NULL),
              ('demo-kpt', 'DEMO · Usó el KPT', 'boolean', NULL),
              ('demo-categoria', 'DEMO · Categoría municipal', 'category', ARRAY['E','1','2','3','4','5','6'])
            ON CONFLICT DO NOTHING
            """)
        try conn.execute("""
            INSERT INTO entity_attribute_values (attribute_code, entity_code, value)
            SELECT 'demo-pdet', m.entity_code, (m.group_code = 'pdet')::text FROM group_set_members m WHERE m.set_code = 'demo-pdet'
            UNION ALL
            SELECT 'demo-kpt', e.code, (get_byte(decode(md5(e.code || \(s) || 'kpt'), 'hex'), 0) < 160)::text FROM entities e
            UNION ALL
            SELECT 'demo-categoria', e.code,
                   CASE WHEN e.code IN ('11001', '05001', '76001', '08001', '13001') THEN 'E'
                        ELSE (ARRAY['1','2','3','4','5','6','6','6','6','6'])[1 + get_byte(decode(md5(e.code || \(s) || 'cat'), 'hex'), 0) % 10] END
              FROM entities e WHERE e.type IN ('municipality', 'district')
            ON CONFLICT DO NOTHING
            """)
    }
}
