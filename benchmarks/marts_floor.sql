-- The engine's floor for the core contract marts: one hand-written DuckDB script, straight from the
-- raw tables, no dbt. It computes the same rows and columns as the dbt marts fct_invoice_lines,
-- mart_costs_monthly, mart_kpi_annual, mart_invoice_timeliness and mart_invoicing_completeness
-- (benchmarks/run_all.py checks that, table by table), into schema `floor`.
-- The runner sets the reporting date first: SET VARIABLE as_of = DATE 'YYYY-MM-DD'.
-- The invoice term is the dbt var late_term_months at its default, 1 month.
-- Written the way one would by hand: every line assessed once (a table, not a view that each mart
-- recomputes), rankings by QUALIFY, nothing else in between.

CREATE SCHEMA IF NOT EXISTS floor;

-- the current products snapshot: the latest ingested products.csv
CREATE OR REPLACE TEMP TABLE floor_products AS
SELECT
    lpad(trim(product_category), 2, '0') AS product_category,
    trim(product_code) AS product_code,
    valid_from,
    valid_to,
    trim(segment) AS segment
FROM raw.reference_products
WHERE file_id = (
    SELECT file_id FROM raw.file_registry
    WHERE content_type = 'products' AND status = 'ingested'
    ORDER BY ingested_seq DESC NULLS LAST, ingested_at DESC NULLS LAST, file_id DESC
    LIMIT 1
);

-- a rejected line: listed in a JW325 (first answer wins its lineage)
CREATE OR REPLACE TEMP TABLE floor_rejections AS
SELECT
    lpad(trim(receiver), 8, '0') AS provider_agb,
    trim(declaration_number) AS declaration_number,
    trim(reference_number) AS reference_number,
    file_id AS rejection_file_id,
    return_codes AS rejection_return_codes
FROM raw.ijw_rejected_lines
QUALIFY row_number() OVER (
    PARTITION BY lpad(trim(receiver), 8, '0'), trim(declaration_number), trim(reference_number)
    ORDER BY message_date, file_id, record_position
) = 1;

CREATE OR REPLACE TABLE floor.fct_invoice_lines AS
WITH lines AS (
    SELECT
        file_id,
        record_position,
        lpad(trim(sender), 8, '0') AS provider_agb,
        CASE WHEN receiver IS NOT NULL
            THEN 'GM' || lpad(replace(upper(trim(receiver)), 'GM', ''), 4, '0') END AS municipality_code,
        trim(declaration_number) AS declaration_number,
        declaration_date,
        client_key,
        trim(reference_number) AS reference_number,
        trim(previous_reference_number) AS previous_reference_number,
        trim(allocation_number) AS allocation_number,
        lpad(trim(product_category), 2, '0') AS product_category,
        trim(product_code) AS product_code,
        period_start,
        period_end,
        CAST(date_trunc('month', period_start) AS DATE) AS service_month,
        upper(trim(debit_credit)) AS debit_credit,
        CASE WHEN upper(trim(debit_credit)) = 'C' THEN -1 ELSE 1 END AS sign,
        volume,
        lpad(trim(unit), 2, '0') AS unit,
        tariff_cents,
        amount_cents
    FROM raw.ijw_invoice_lines
)
SELECT
    lines.file_id || ':' || CAST(lines.record_position AS VARCHAR) AS invoice_line_id,
    lines.provider_agb,
    lines.municipality_code,
    lines.declaration_number,
    lines.reference_number,
    lines.previous_reference_number,
    lines.client_key,
    lines.allocation_number,
    lines.product_category,
    lines.product_code,
    lines.service_month,
    lines.period_start,
    lines.period_end,
    lines.debit_credit,
    CAST(lines.volume * lines.sign AS BIGINT) AS volume,
    lines.unit,
    CAST(CAST(lines.tariff_cents AS DECIMAL(18, 0)) * 0.01 AS DECIMAL(18, 2)) AS tariff_eur,
    CAST(CAST(CAST(lines.amount_cents AS DECIMAL(18, 0)) * 0.01 AS DECIMAL(18, 2)) * lines.sign AS DECIMAL(18, 2)) AS amount_eur,
    lines.declaration_date,
    rejections.rejection_file_id IS NOT NULL AS is_rejected,
    rejections.rejection_return_codes,
    CAST(date_diff('day', last_day(lines.service_month), lines.declaration_date) AS INTEGER) AS lag_days,
    last_day(CAST(lines.service_month + to_months(1) AS DATE)) AS invoice_deadline,
    lines.declaration_date > last_day(CAST(lines.service_month + to_months(1) AS DATE)) AS is_late,
    lines.file_id,
    CAST(lines.record_position AS INTEGER) AS record_position,
    rejections.rejection_file_id
FROM lines
LEFT JOIN floor_rejections AS rejections
    ON rejections.provider_agb = lines.provider_agb
    AND rejections.declaration_number = lines.declaration_number
    AND rejections.reference_number = lines.reference_number;

CREATE OR REPLACE TEMP TABLE floor_accepted AS
SELECT * FROM floor.fct_invoice_lines
WHERE NOT is_rejected AND service_month IS NOT NULL;

CREATE OR REPLACE TABLE floor.mart_costs_monthly AS
WITH client_cells AS (
    SELECT municipality_code, provider_agb, product_code, service_month, client_key,
           max(product_category) AS product_category,
           sum(amount_eur) AS net_amount_eur,
           sum(volume) AS net_volume
    FROM floor_accepted
    GROUP BY ALL
),
cells AS (
    SELECT municipality_code, provider_agb, product_code, service_month,
           max(product_category) AS product_category,
           sum(net_amount_eur) AS amount_eur,
           sum(net_volume) AS volume,
           count(*) FILTER (WHERE net_amount_eur > 0) AS clients
    FROM client_cells
    GROUP BY municipality_code, provider_agb, product_code, service_month
),
segments AS (
    SELECT cells.municipality_code, cells.provider_agb, cells.product_code, cells.service_month,
           products.segment
    FROM cells
    JOIN floor_products AS products
        ON products.product_code = cells.product_code
        AND products.product_category = cells.product_category
        AND (products.valid_from IS NULL OR products.valid_from <= last_day(cells.service_month))
        AND (products.valid_to IS NULL OR products.valid_to >= cells.service_month)
    QUALIFY row_number() OVER (
        PARTITION BY cells.municipality_code, cells.provider_agb, cells.product_code, cells.service_month
        ORDER BY products.valid_from DESC
    ) = 1
)
SELECT
    cells.municipality_code,
    cells.provider_agb,
    cells.product_code,
    cells.service_month,
    cells.product_category,
    segments.segment,
    CAST(cells.amount_eur AS DECIMAL(18, 2)) AS amount_eur,
    CAST(cells.volume AS BIGINT) AS volume,
    CAST(cells.clients AS BIGINT) AS clients
FROM cells
LEFT JOIN segments USING (municipality_code, provider_agb, product_code, service_month);

CREATE OR REPLACE TABLE floor.mart_kpi_annual AS
WITH per_municipality AS (
    SELECT lines.client_key, lines.provider_agb, lines.product_code, lines.service_month,
           lines.municipality_code,
           sum(lines.amount_eur) AS net_amount_eur,
           sum(lines.volume * units.minutes) AS net_minutes,
           count(units.minutes) AS time_unit_lines
    FROM floor_accepted AS lines
    LEFT JOIN (VALUES ('01', 1), ('04', 60), ('14', 1440), ('16', 240)) AS units(unit, minutes)
        ON units.unit = lines.unit
    GROUP BY ALL
),
care_months AS (
    -- a care month split over municipalities counts for the one with the largest net amount
    SELECT client_key, provider_agb, product_code,
           CAST(extract(year FROM service_month) AS INTEGER) AS service_year,
           arg_min(municipality_code, (-net_amount_eur, municipality_code)) AS municipality_code,
           sum(time_unit_lines) > 0 AS has_time_unit,
           CASE WHEN sum(time_unit_lines) > 0 THEN sum(net_minutes) / 60.0 END AS care_hours
    FROM per_municipality
    GROUP BY client_key, provider_agb, product_code, service_month
    HAVING sum(net_amount_eur) > 0
),
care AS (
    SELECT municipality_code, service_year,
           count(DISTINCT client_key) AS unique_youths,
           count(DISTINCT client_key || '|' || provider_agb || '|' || product_code) AS non_unique_youths,
           count(*) AS care_months,
           sum(CASE WHEN has_time_unit THEN care_hours END) AS time_unit_hours,
           count(*) FILTER (WHERE has_time_unit) AS time_unit_care_months
    FROM care_months
    GROUP BY ALL
),
cost AS (
    SELECT municipality_code, CAST(extract(year FROM service_month) AS INTEGER) AS service_year,
           sum(amount_eur) AS total_cost_eur
    FROM floor_accepted
    GROUP BY ALL
),
years AS (
    SELECT
        coalesce(care.municipality_code, cost.municipality_code) AS municipality_code,
        coalesce(care.service_year, cost.service_year) AS service_year,
        coalesce(care.unique_youths, 0) AS unique_youths,
        coalesce(care.non_unique_youths, 0) AS non_unique_youths,
        coalesce(care.care_months, 0) AS care_months,
        care.time_unit_hours,
        coalesce(care.time_unit_care_months, 0) AS time_unit_care_months,
        coalesce(cost.total_cost_eur, 0) AS total_cost_eur,
        CASE
            WHEN coalesce(care.service_year, cost.service_year) < year(getvariable('as_of')) THEN 12
            WHEN coalesce(care.service_year, cost.service_year) = year(getvariable('as_of'))
                THEN month(getvariable('as_of')) - 1
            ELSE 0
        END AS months_observed
    FROM care
    FULL OUTER JOIN cost
        ON cost.municipality_code = care.municipality_code AND cost.service_year = care.service_year
)
SELECT
    municipality_code,
    CAST(service_year AS INTEGER) AS year,
    CAST(unique_youths AS BIGINT) AS unique_youths,
    CAST(non_unique_youths AS BIGINT) AS non_unique_youths,
    CAST(care_months AS BIGINT) AS care_months,
    CAST(round(1.0 * care_months / nullif(non_unique_youths, 0), 2) AS DECIMAL(18, 2)) AS avg_months_per_youth,
    CAST(total_cost_eur AS DECIMAL(18, 2)) AS total_cost_eur,
    CAST(round(total_cost_eur / nullif(care_months, 0), 2) AS DECIMAL(18, 2)) AS avg_cost_per_youth_month,
    CAST(round(time_unit_hours / nullif(time_unit_care_months, 0), 2) AS DECIMAL(18, 2)) AS intensity_hours_per_month,
    CAST(months_observed AS INTEGER) AS months_observed,
    months_observed = 12 AS is_year_complete,
    CAST(round(total_cost_eur * 12 / nullif(months_observed, 0), 2) AS DECIMAL(18, 2)) AS total_cost_annualised_eur,
    CAST(round(care_months * 12.0 / nullif(months_observed, 0), 2) AS DECIMAL(18, 2)) AS care_months_annualised
FROM years;

CREATE OR REPLACE TABLE floor.mart_invoice_timeliness AS
SELECT
    provider_agb,
    service_month,
    CAST(count(*) AS BIGINT) AS lines,
    CAST(sum(amount_eur) AS DECIMAL(18, 2)) AS amount_eur,
    CAST(count(*) FILTER (WHERE is_late) AS BIGINT) AS late_lines,
    CAST(coalesce(sum(amount_eur) FILTER (WHERE is_late), 0) AS DECIMAL(18, 2)) AS late_amount_eur,
    CAST(round(1.0 * count(*) FILTER (WHERE is_late) / count(*), 4) AS DECIMAL(9, 4)) AS late_share,
    CAST(round(quantile_cont(lag_days, 0.5), 1) AS DECIMAL(9, 1)) AS median_lag_days,
    CAST(round(quantile_cont(lag_days, 0.9), 1) AS DECIMAL(9, 1)) AS p90_lag_days,
    max(invoice_deadline) AS invoice_deadline,
    max(invoice_deadline) < getvariable('as_of') AS is_deadline_passed
FROM floor.fct_invoice_lines
WHERE debit_credit = 'D' AND service_month IS NOT NULL
GROUP BY provider_agb, service_month;

-- invoicing completeness: allocations, starts and stops resolved to their latest message
CREATE OR REPLACE TEMP TABLE floor_allocations AS
SELECT
    CASE WHEN sender IS NOT NULL
        THEN 'GM' || lpad(replace(upper(trim(sender)), 'GM', ''), 4, '0') END AS municipality_code,
    lpad(trim(receiver), 8, '0') AS provider_agb,
    trim(allocation_number) AS allocation_number,
    start_date,
    end_date,
    coalesce(lpad(trim(change_reason), 2, '0') = '13', false) AS is_deleted,
    trim(frequency) AS frequency
FROM raw.ijw_allocations
QUALIFY row_number() OVER (
    PARTITION BY municipality_code, trim(allocation_number)
    ORDER BY message_date DESC, message_id DESC, file_id DESC, record_position DESC
) = 1;

CREATE OR REPLACE TEMP TABLE floor_first_starts AS
WITH starts AS (
    SELECT
        CASE WHEN receiver IS NOT NULL
            THEN 'GM' || lpad(replace(upper(trim(receiver)), 'GM', ''), 4, '0') END AS municipality_code,
        lpad(trim(sender), 8, '0') AS provider_agb,
        trim(allocation_number) AS allocation_number,
        start_date,
        trim(delivery_status) AS delivery_status
    FROM raw.ijw_starts
    QUALIFY row_number() OVER (
        PARTITION BY municipality_code, provider_agb, trim(allocation_number), start_date
        ORDER BY message_date DESC, message_id DESC, file_id DESC, record_position DESC
    ) = 1
)
SELECT municipality_code, provider_agb, allocation_number, min(start_date) AS first_start_date
FROM starts
WHERE coalesce(delivery_status, '1') <> '3'
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE floor_definitive_ends AS
WITH stops AS (
    SELECT
        CASE WHEN receiver IS NOT NULL
            THEN 'GM' || lpad(replace(upper(trim(receiver)), 'GM', ''), 4, '0') END AS municipality_code,
        lpad(trim(sender), 8, '0') AS provider_agb,
        trim(allocation_number) AS allocation_number,
        end_date,
        lpad(trim(end_reason), 2, '0') AS end_reason,
        trim(delivery_status) AS delivery_status
    FROM raw.ijw_stops
    QUALIFY row_number() OVER (
        PARTITION BY municipality_code, provider_agb, trim(allocation_number), start_date, end_date
        ORDER BY message_date DESC, message_id DESC, file_id DESC, record_position DESC
    ) = 1
)
SELECT municipality_code, provider_agb, allocation_number, max(end_date) AS end_date
FROM stops
WHERE coalesce(delivery_status, '1') <> '3' AND NOT coalesce(end_reason = '20', false)
GROUP BY ALL;

CREATE OR REPLACE TABLE floor.mart_invoicing_completeness AS
WITH recurring AS (
    SELECT * FROM floor_allocations
    WHERE NOT is_deleted AND frequency IN ('1', '2', '4') AND start_date IS NOT NULL
),
months AS (
    SELECT CAST(unnest(generate_series(
        (SELECT CAST(date_trunc('month', min(start_date)) AS DATE) FROM recurring),
        CAST(date_trunc('month', getvariable('as_of')) AS DATE),
        INTERVAL 1 MONTH)) AS DATE) AS service_month
),
expected AS (
    SELECT recurring.municipality_code, recurring.provider_agb, recurring.allocation_number,
           months.service_month
    FROM recurring
    JOIN floor_first_starts AS starts USING (municipality_code, provider_agb, allocation_number)
    LEFT JOIN floor_definitive_ends AS ends USING (municipality_code, provider_agb, allocation_number)
    JOIN months
        ON recurring.start_date <= last_day(months.service_month)
        AND (recurring.end_date IS NULL OR recurring.end_date >= months.service_month)
    WHERE starts.first_start_date <= last_day(months.service_month)
      AND (ends.end_date IS NULL OR ends.end_date >= months.service_month)
      AND last_day(CAST(months.service_month + to_months(1) AS DATE)) < getvariable('as_of')
      -- from the first care month of the invoice history on
      AND months.service_month >= (SELECT min(service_month) FROM floor.fct_invoice_lines)
),
invoiced AS (
    SELECT municipality_code, provider_agb, allocation_number, service_month
    FROM floor_accepted
    WHERE allocation_number IS NOT NULL
    GROUP BY ALL
    HAVING sum(amount_eur) > 0
),
per_cell AS (
    SELECT expected.provider_agb, expected.municipality_code, expected.service_month,
           count(*) AS expected_care_months,
           count(invoiced.allocation_number) AS invoiced_care_months
    FROM expected
    LEFT JOIN invoiced USING (municipality_code, provider_agb, allocation_number, service_month)
    GROUP BY ALL
)
SELECT
    provider_agb,
    municipality_code,
    service_month,
    CAST(expected_care_months AS BIGINT) AS expected_care_months,
    CAST(invoiced_care_months AS BIGINT) AS invoiced_care_months,
    CAST(expected_care_months - invoiced_care_months AS BIGINT) AS missing_care_months,
    CAST(round(100.0 * invoiced_care_months / expected_care_months, 2) AS DECIMAL(9, 2)) AS completeness_pct
FROM per_cell;
