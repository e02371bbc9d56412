{#- Every JW323 line with the municipality's verdict and its timeliness: rejected when a JW325
    lists a line with the same provider (JW325 receiver), declaration number and reference
    number; late when declared after the invoice deadline of its care month. Neither depends on
    the reporting date, so a line's assessment only changes when a JW325 arrives for it.
    The SQL is the macro assess_invoice_lines, which fct_invoice_lines also applies to just the
    lines of an incremental run. -#}

{{ assess_invoice_lines(ref('stg_ijw__invoice_lines')) }}
