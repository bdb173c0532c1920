-- 4xx and 5xx errors in the web logs: hits per status code and URL, most frequent first.
-- @param from date = 1970-01-01: first request day included
-- @param to date = 9999-12-31: last request day included
SELECT
    CASE WHEN status_code >= 500 THEN '5xx' ELSE '4xx' END AS error_class,
    status_code,
    url,
    COUNT(*) AS hits
FROM kafka_ing_logs
WHERE status_code >= 400
    AND CAST(dt AS DATE) BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
GROUP BY status_code, url
ORDER BY hits DESC, status_code, url
