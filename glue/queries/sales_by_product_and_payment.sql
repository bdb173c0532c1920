-- Sales by product and payment method: transactions and revenue per pair, best sellers first.
-- @param from date = 1970-01-01: first transaction day included
-- @param to date = 9999-12-31: last transaction day included
SELECT
    product,
    paymentmethod AS payment_method,
    COUNT(*) AS transactions,
    ROUND(SUM(amount), 2) AS revenue
FROM kafka_ing_transactions
WHERE transactiondate BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
GROUP BY product, paymentmethod
ORDER BY revenue DESC, product, payment_method
