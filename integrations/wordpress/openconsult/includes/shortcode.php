<?php
/**
 * [openconsult widget="walk-in:KEY" height="600" title="Walk-in consultation"]
 *
 * Outputs the same iframe as the embed code in OpenConsult's admin and enqueues the script that sizes the
 * iframe to its content (once per organisation, however many widgets a page has).
 *
 * @package OpenConsult
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const OPENCONSULT_DEFAULT_HEIGHT = 420;
const OPENCONSULT_MIN_HEIGHT     = 200;
const OPENCONSULT_MAX_HEIGHT     = 4000;

/**
 * The shortcode's handler.
 *
 * @param array|string $atts Shortcode attributes ('' when there are none).
 * @return string HTML.
 */
function openconsult_shortcode( $atts ) {
	$atts = shortcode_atts(
		array(
			'widget' => '',
			'height' => '',
			'title'  => '',
		),
		is_array( $atts ) ? $atts : array(),
		'openconsult'
	);

	$widget = openconsult_parse_widget( $atts['widget'] );
	if ( ! is_array( $widget ) ) {
		return openconsult_error( $widget );
	}

	$title = trim( (string) $atts['title'] );
	if ( '' === $title ) {
		$title = 'booking' === $widget['kind']
			? __( 'Book an appointment', 'openconsult' )
			: __( 'Walk-in consultation', 'openconsult' );
	}

	openconsult_enqueue_script( $widget['origin'] );

	return sprintf(
		'<iframe src="%1$s" data-openconsult-widget title="%2$s" allow="camera; microphone; display-capture; fullscreen" loading="lazy" style="width: 100%%; min-height: %3$dpx; border: 0;"></iframe>',
		esc_url( openconsult_widget_url( $widget ) ),
		esc_attr( $title ),
		openconsult_height( $atts['height'] )
	);
}

/**
 * The iframe's starting height in pixels; the script grows or shrinks it to the widget's content.
 *
 * @param string $height What the editor wrote ("600" or "600px").
 * @return int
 */
function openconsult_height( $height ) {
	if ( ! preg_match( '/^\s*(\d{1,5})\s*(px)?\s*$/', (string) $height, $match ) ) {
		return OPENCONSULT_DEFAULT_HEIGHT;
	}
	return max( OPENCONSULT_MIN_HEIGHT, min( OPENCONSULT_MAX_HEIGHT, (int) $match[1] ) );
}

/**
 * Enqueue embed.js from the organisation's host, once per host.
 *
 * @param string $origin The organisation's address.
 */
function openconsult_enqueue_script( $origin ) {
	static $enqueued = array();
	if ( isset( $enqueued[ $origin ] ) ) {
		return;
	}
	$enqueued[ $origin ] = true;
	// The configured organisation keeps a stable handle (themes may dequeue it); other hosts get their own.
	$handle = openconsult_configured_origin() === $origin ? 'openconsult-embed' : 'openconsult-embed-' . substr( md5( $origin ), 0, 8 );
	wp_enqueue_script(
		$handle,
		esc_url_raw( openconsult_script_url( $origin ) ),
		array(),
		null, // No ?ver=: the script's address is OpenConsult's, which versions it itself.
		array(
			'in_footer' => true,
			'strategy'  => 'async',
		)
	);
}

/**
 * What a wrong shortcode shows: an HTML comment for visitors, plus a visible hint for editors.
 *
 * The comment never repeats what the editor wrote: that text could close the comment.
 *
 * @param string $code 'invalid' or 'no-address'.
 * @return string HTML.
 */
function openconsult_error( $code ) {
	if ( 'no-address' === $code ) {
		$comment = '<!-- OpenConsult: the organisation address is not set (Settings > OpenConsult) -->';
		$hint    = __( 'OpenConsult: enter your organisation\'s address under Settings → OpenConsult to show this widget.', 'openconsult' );
	} else {
		$comment = '<!-- OpenConsult: unknown widget -->';
		$hint    = __( 'OpenConsult: this is not a widget. Write widget="walk-in:KEY" or widget="booking:KEY" with the key from the widget\'s edit screen in the OpenConsult admin, or paste the widget\'s full address.', 'openconsult' );
	}
	if ( ! current_user_can( 'edit_posts' ) ) {
		return $comment;
	}
	return $comment . '<p class="openconsult-error" role="note"><strong>' . esc_html( $hint ) . '</strong></p>';
}
