-- 4xx and 5xx errors in the web logs: hits per status code and URL, most frequent first.
SELECT
    CASE WHEN status_code >= 500 THEN '5xx' ELSE '4xx' END AS error_class,
    status_code,
    url,
    COUNT(*) AS hits
FROM kafka_ing_logs
WHERE status_code >= 400
GROUP BY status_code, url
ORDER BY hits DESC, status_code, url
