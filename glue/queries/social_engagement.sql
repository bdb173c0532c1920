-- Social engagement: posts, likes and retweets per user, most liked first.
-- @param from date = 1970-01-01: first post day included
-- @param to date = 9999-12-31: last post day included
SELECT
    "user",
    COUNT(*) AS posts,
    SUM(likes) AS likes,
    SUM(retweets) AS retweets
FROM kafka_ing_social_data
WHERE post_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
GROUP BY "user"
ORDER BY likes DESC, "user"
