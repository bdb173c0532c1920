-- Social engagement: posts, likes and retweets per user, most liked first.
SELECT
    "user",
    COUNT(*) AS posts,
    SUM(likes) AS likes,
    SUM(retweets) AS retweets
FROM kafka_ing_social_data
GROUP BY "user"
ORDER BY likes DESC, "user"
