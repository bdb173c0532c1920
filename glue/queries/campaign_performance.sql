-- Campaign performance: the latest snapshot of each campaign (most impressions), with its CTR.
SELECT
    campaign_id,
    MAX(hashtag) AS hashtag,
    MAX(budget) AS budget,
    MAX(impressions) AS impressions,
    MAX(clicks) AS clicks,
    ROUND(CAST(MAX(clicks) AS DOUBLE) / MAX(impressions), 4) AS ctr
FROM kafka_ing_ad_campaigns
GROUP BY campaign_id
ORDER BY ctr DESC, campaign_id
