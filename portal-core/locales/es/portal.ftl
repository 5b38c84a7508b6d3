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

## El marco de todas las páginas

frame-neutral-company = Portal de clientes
frame-skip = Ir al contenido
frame-footer-branded = Portal seguro para clientes de { $company }.
frame-footer-private = Esta página es privada: no comparta su dirección.
nav-label = Portal
nav-team = Su equipo
nav-ask = Hacer una pregunta
nav-settings = Configuración
nav-sign-out = Cerrar sesión

## Páginas de acceso (invitación, verificación, enlace mágico)

title-invite = Su portal de incorporación
title-verify = Revise su correo
title-magic = Confirme que es usted
invite-welcome = Le damos la bienvenida, { $name }
invite-set-up = { $company } ha preparado un portal de incorporación para <strong>{ $client }</strong>.
invite-we-email = Para confirmar que es usted, enviaremos un enlace de acceso y un código de 6 dígitos a <strong>{ $email }</strong>, la dirección que tenemos registrada.
invite-send = Enviar correo de verificación
invite-hint = No necesita cuenta ni contraseña. Este enlace es personal: los compañeros que necesiten acceso recibirán su propia invitación.
verify-title = Revise su correo
verify-sent = Hemos enviado un correo a <strong>{ $email }</strong>. Abra el enlace que contiene o introduzca aquí el código de 6 dígitos.
verify-code-until = El código es válido hasta { $time }.
verify-code-label = Código de verificación
verify-continue = Continuar
verify-didnt-get-it = ¿No lo ha recibido? Revise la carpeta de correo no deseado o
verify-send-new = envíe un código nuevo
verify-codes-left = { $count ->
    [one] (puede enviarse { $count } código más; cada código nuevo sustituye al anterior).
   *[other] (pueden enviarse { $count } códigos más; cada código nuevo sustituye al anterior).
}
verify-all-sent = Ya se han enviado los { $count } códigos permitidos para este acceso. Para empezar de nuevo, vuelva a abrir su enlace de invitación.
magic-title = Confirme que es usted
magic-continue-as = Continúe al portal de incorporación de { $client } como <strong>{ $name }</strong>.
magic-button = Continuar al portal
magic-hint = Este paso de confirmación impide que los filtros de seguridad del correo usen su enlace antes que usted.

## Páginas de error y avisos

error-unsupported-form-title = Formulario no admitido
error-unsupported-form-text = Envíe el formulario desde la página del portal.
error-form-too-large-title = Formulario demasiado grande
error-form-too-large-text = Lo que ha enviado supera el tamaño que admite este formulario. Acórtelo e inténtelo de nuevo.
error-the-form-took-too-title = El formulario tardó demasiado en llegar
error-the-form-took-too-text = Puede que su conexión sea lenta o se haya interrumpido. No se ha guardado nada: vuelva atrás e inténtelo de nuevo.
error-the-request-could-not-title = No se pudo leer la solicitud
error-the-request-could-not-text = Inténtelo de nuevo.
error-this-page-has-expired-title = Esta página ha caducado
error-this-page-has-expired-text = Por su seguridad, los formularios solo funcionan desde una página abierta recientemente. Vuelva atrás, recargue la página e inténtelo de nuevo.
error-not-allowed-title = No permitido
error-not-allowed-text = Esta dirección no admite ese tipo de solicitud.
error-this-form-came-from-title = Este formulario procede de otro sitio web
error-this-form-came-from-text = Por su seguridad, no se ha cambiado nada. El portal solo acepta formularios enviados desde sus propias páginas. Abra el portal desde el enlace de su correo e inténtelo allí.
error-please-sign-in-again-title = Vuelva a iniciar sesión
error-please-sign-in-again-text = Su sesión ha terminado. Abra el enlace de invitación de su correo para volver a entrar: le enviaremos un nuevo código de verificación.
error-this-signin-has-ended-title = Este acceso ha terminado
error-this-signin-has-ended-text = Este acceso ya se completó o fue sustituido por otro más reciente. Use el enlace de su correo más reciente o vuelva a abrir su enlace de invitación.
error-this-link-isnt-valid-title = Este enlace no es válido
error-this-link-isnt-valid-text = Este enlace de acceso ya se utilizó o fue sustituido por otro más reciente. Use el enlace de su correo más reciente o vuelva a abrir su enlace de invitación.
error-page-not-found-title = Página no encontrada
error-page-not-found-text = No hay ninguna página en esta dirección. Compruebe el enlace de su correo.
error-not-found-title = No encontrado
error-not-found-text = Esta imagen no existe.
error-this-link-isnt-valid-2-title = Este enlace no es válido
error-this-link-isnt-valid-2-text = Este enlace de recordatorio está incompleto o se ha modificado. Use el enlace tal como aparece en el correo de recordatorio.
error-this-link-has-expired-title = Este enlace ha caducado
error-this-link-has-expired-text = Los enlaces de los recordatorios son válidos durante un tiempo limitado. Use el enlace de su recordatorio más reciente.
error-no-meeting-scheduled-yet-title = Aún no hay reunión programada
error-no-meeting-scheduled-yet-text = Su equipo de incorporación todavía no ha programado esta reunión. La invitación de calendario aparecerá en la tarea cuando lo haga.
error-file-not-found-title = Archivo no encontrado
error-file-not-found-text = Este archivo no forma parte de su portal o se ha eliminado. Vuelva a su portal para ver sus documentos.
error-not-found-2-title = No encontrado
error-not-found-2-text = Esto no forma parte de su portal o se ha eliminado. Vuelva a su portal para ver lo que contiene.
error-this-link-isnt-valid-3-title = Este enlace no es válido
error-this-link-isnt-valid-3-text = No hemos encontrado ninguna invitación para este enlace. Puede que se haya sustituido por una invitación más reciente: busque la última en su correo o consulte a su contacto en la empresa que le invitó.
error-access-revoked-title = Acceso retirado
error-access-revoked-text = Se ha retirado su acceso a este portal. Si cree que se trata de un error, póngase en contacto con la empresa que le invitó.
error-this-portal-isnt-open-title = Este portal aún no está abierto
error-this-portal-isnt-open-text = Su equipo de incorporación todavía está preparando este portal. Le avisarán cuando esté listo; entonces su enlace de invitación funcionará.
error-this-portal-is-closed-title = Este portal está cerrado
error-this-portal-is-closed-text = Este portal de incorporación se ha cerrado. Si aún necesita algo de él, póngase en contacto con la empresa que le invitó.
error-not-allowed-2-title = No permitido
error-not-allowed-2-text = No puede hacer eso en este portal.
error-out-of-storage-space-title = Sin espacio de almacenamiento
error-out-of-storage-space-text = El servidor se ha quedado sin espacio de almacenamiento, así que su cambio no se ha guardado. Inténtelo de nuevo más tarde.
error-something-went-wrong-on-title = Algo ha fallado por nuestra parte
error-something-went-wrong-on-text = Inténtelo de nuevo dentro de un momento. Si sigue ocurriendo, póngase en contacto con la empresa que le invitó.
error-slow-down-title = Vaya un poco más despacio
error-slow-down-text = { $count ->
    [one] Está enviando muchos cambios seguidos: espere un minuto e inténtelo de nuevo. El portal acepta hasta { $count } cambio por minuto; lo que acaba de enviar no se ha guardado.
   *[other] Está enviando muchos cambios seguidos: espere un minuto e inténtelo de nuevo. El portal acepta hasta { $count } cambios por minuto; lo que acaba de enviar no se ha guardado.
}
error-network-title = Demasiados intentos desde su red
error-network-text = { $count ->
    [one] Se han producido demasiados intentos de acceso desde su red recientemente; inténtelo de nuevo dentro de { $count } minuto. Esta vez no se ha enviado ni comprobado nada. Si comparte la conexión a Internet con muchos compañeros, puede que alguno de ellos también esté accediendo.
   *[other] Se han producido demasiados intentos de acceso desde su red recientemente; inténtelo de nuevo dentro de { $count } minutos. Esta vez no se ha enviado ni comprobado nada. Si comparte la conexión a Internet con muchos compañeros, puede que alguno de ellos también esté accediendo.
}
error-signin-expired-title = Este acceso ha caducado
error-signin-expired-text = Un acceso es válido durante { $duration } desde que se inicia. Vuelva a abrir su enlace de invitación para empezar uno nuevo.
error-code-expired-text = Los enlaces y códigos de acceso son válidos durante { $duration }. Vuelva a abrir su enlace de invitación para recibir uno nuevo.
error-too-many-codes-title = Demasiados códigos solicitados
error-too-many-codes-text = { $count ->
    [one] Ya le hemos enviado { $count } código para este acceso, el máximo permitido. Busque el correo más reciente en su bandeja de entrada y en la carpeta de correo no deseado, o vuelva a abrir su enlace de invitación más tarde para empezar de nuevo.
   *[other] Ya le hemos enviado { $count } códigos para este acceso, el máximo permitido. Busque el correo más reciente en su bandeja de entrada y en la carpeta de correo no deseado, o vuelva a abrir su enlace de invitación más tarde para empezar de nuevo.
}
error-wrong-tries-title = Demasiados intentos fallidos
error-wrong-tries-text = { $count ->
    [one] Ese código se introdujo mal { $count } vez y ya no funciona. Vuelva a abrir su enlace de invitación para recibir uno nuevo.
   *[other] Ese código se introdujo mal { $count } veces y ya no funciona. Vuelva a abrir su enlace de invitación para recibir uno nuevo.
}
error-locked-out-title = Demasiados códigos incorrectos
error-locked-out-text = Por su seguridad, de momento no se pueden usar códigos porque se introdujeron demasiados incorrectos. Podrá intentarlo de nuevo después de { $time }. El enlace de acceso de su correo más reciente sigue funcionando.
error-too-many-emails-title = Demasiados correos
error-too-many-emails-text = { $count ->
    [one] Hemos enviado { $count } correo de verificación a esta dirección en { $duration }, el máximo permitido. Busque el más reciente en su bandeja de entrada (y en la carpeta de correo no deseado) o inténtelo de nuevo más tarde.
   *[other] Hemos enviado { $count } correos de verificación a esta dirección en { $duration }, el máximo permitido. Busque el más reciente en su bandeja de entrada (y en la carpeta de correo no deseado) o inténtelo de nuevo más tarde.
}
error-check-input-title = Revise los datos introducidos
error-conflict-title = Eso no se puede hacer ahora
error-stale-title = Alguien lo ha cambiado mientras tanto
error-too-large-title = Demasiado grande
error-too-large-text = Lo que ha enviado supera los { $size } permitidos aquí. No se ha guardado nada: redúzcalo e inténtelo de nuevo.
error-mail-title = No hemos podido enviar el correo
error-mail-text = Nuestro servicio de correo no ha aceptado el mensaje en este momento, así que no se le ha enviado ningún correo.
back-to-invitation = Volver a su invitación
back-to-sign-in = Volver a la página de acceso
back-to-portal = Volver a su portal
back-to-task = Volver a la tarea
download-refused-title = Este archivo no se puede descargar
signed-out-title = Ha cerrado la sesión
signed-out-text = Para volver, abra el enlace de invitación de su correo. Le enviaremos un nuevo código de verificación.
snooze-title = Recordármelo más tarde
snooze-question = ¿Pausar los recordatorios de «{ $task }» durante 3 días, { $name }?
snooze-button = Recordármelo dentro de 3 días
snooze-hint = Las demás tareas se seguirán recordando como de costumbre.
stop-title = Dejar de recibir recordatorios
stop-question = ¿Dejar de enviar correos de recordatorio del portal de incorporación de { $client } a { $email }?
stop-hint = Seguirá recibiendo los códigos de acceso y los mensajes de { $company }, y sus tareas seguirán en el portal.
snoozed-title = Recordatorios en pausa
snoozed-text = No le recordaremos «{ $task }» durante los próximos 3 días.
stopped-title = Recordatorios desactivados
stopped-text = { $email } ya no recibirá correos de recordatorio de este portal. Los códigos de acceso y los mensajes seguirán llegando.
verify-notice-sent = Le hemos enviado un código nuevo. Sustituye al anterior.
verify-error-wrong = { $count ->
    [one] Ese código no es correcto. Puede intentarlo { $count } vez más.
   *[other] Ese código no es correcto. Puede intentarlo { $count } veces más.
}
verify-error-format = Introduzca el código de 6 dígitos del correo.
verify-error-expired = Este código ha caducado. Solicite un código nuevo más abajo.
verify-error-too-many = Demasiados intentos fallidos: este código ya no funciona. Solicite un código nuevo más abajo.
