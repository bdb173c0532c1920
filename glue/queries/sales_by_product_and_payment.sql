-- Sales by product and payment method: transactions and revenue per pair, best sellers first.
SELECT
    product,
    paymentmethod AS payment_method,
    COUNT(*) AS transactions,
    ROUND(SUM(amount), 2) AS revenue
FROM kafka_ing_transactions
GROUP BY product, paymentmethod
ORDER BY revenue DESC, product, payment_method
