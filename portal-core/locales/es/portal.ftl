# Los mensajes del portal para el cliente, en español (trato de usted): páginas,
# correos, fechas. Cada clave está también en en/portal.ftl con los mismos argumentos.

## Fechas y números

date-weekday = { $weekday ->
    [1] lun
    [2] mar
    [3] mié
    [4] jue
    [5] vie
    [6] sáb
   *[7] dom
}
date-month = { $month ->
    [1] ene
    [2] feb
    [3] mar
    [4] abr
    [5] may
    [6] jun
    [7] jul
    [8] ago
    [9] sept
    [10] oct
    [11] nov
   *[12] dic
}
date = { $weekday } { $day } { $month } { $year }
date-time = { $date }, { $clock }

count-days = { $count ->
    [one] { $count } día
   *[other] { $count } días
}
count-hours = { $count ->
    [one] { $count } hora
   *[other] { $count } horas
}
count-minutes = { $count ->
    [one] { $count } minuto
   *[other] { $count } minutos
}
count-seconds = { $count ->
    [one] { $count } segundo
   *[other] { $count } segundos
}
count-bytes = { $count ->
    [one] { $count } byte
   *[other] { $count } bytes
}
duration-a-day = un día
duration-an-hour = una hora
